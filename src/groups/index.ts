import { basic } from './basic.js';
import type { CommandDef } from './define.js';
import { enumeration } from './enum.js';
import { fs } from './fs.js';
import { image } from './image.js';
import { os } from './os.js';
import { settings } from './settings.js';
import { shell } from './shell.js';
import { stat } from './stat.js';

export * from './define.js';
export { basic, enumeration, fs, image, os, settings, shell, stat };

export const groups = { os, image, stat, settings, fs, shell, enumeration, basic };

/** Every command of every group, for the device's dispatch table and the docs. */
export const allCommands: CommandDef[] = Object.values(groups).flatMap((g) => Object.values(g) as CommandDef[]);
