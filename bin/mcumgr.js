#!/usr/bin/env node
import '../dist/bin/mcumgr.js';
