import { stat } from '../../groups/stat.js';
import { GroupError, MgmtError } from '../errors.js';
import type { VirtualDevice } from '../device.js';

const MAX_NAME_LEN = 32;

export function registerStat(dev: VirtualDevice): void {
  const { server, config } = dev;
  server.setGroupName(2, 'stat mgmt');

  server.register(stat.read, (req) => {
    if (req.name.length === 0 || req.name.length >= MAX_NAME_LEN) throw new MgmtError(3);
    const group = config.stats.find((g) => g.name === req.name);
    // Zephyr reports this error with group 63 (ZEPHYR_MGMT_GRP_BASIC), a copy/paste slip; v1 sees rc 1.
    if (!group) throw new GroupError(63, 3, undefined, 1);
    if (group.tooLarge) throw new MgmtError(7);
    const fields: Record<string, number> = {};
    for (const [name, bits] of Object.entries(group.fields)) {
      const v = dev.statValue(group.name, name);
      const masked = bits === 16 ? v & 0xffff : v % 2 ** 32; // 64-bit counters are truncated to 32 bits on output
      fields[name] = masked >>> 0;
    }
    return { name: group.name, fields };
  });

  server.register(stat.list, () => ({ rc: 0, stat_list: config.stats.map((g) => g.name) }) as never);
}
