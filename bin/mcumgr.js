#!/usr/bin/env node
// The checkout's entry; an installed package runs dist/bin/mcumgr.cjs directly (package.json "bin").
import { createRequire } from 'node:module';
createRequire(import.meta.url)('../dist/bin/mcumgr.cjs');
