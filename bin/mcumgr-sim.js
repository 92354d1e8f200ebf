#!/usr/bin/env node
import '../dist/bin/mcumgr-sim.js';
