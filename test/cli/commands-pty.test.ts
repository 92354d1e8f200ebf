/** Every device command of the real `mcumgr` executable over a real pseudo-terminal (SMP serial framing), human and --json. */
import { describeEveryCommand } from './commands.js';

describeEveryCommand('pty');
