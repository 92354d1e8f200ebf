/** Every device command of the real `mcumgr` executable over UDP, human and --json. */
import { describeEveryCommand } from './commands.js';

describeEveryCommand('udp');
