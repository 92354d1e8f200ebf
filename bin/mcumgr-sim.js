#!/usr/bin/env node
import '../dist/device/sim.js';
