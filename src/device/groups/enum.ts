import { enumeration } from '../../groups/enum.js';
import { GroupError } from '../errors.js';
import type { VirtualDevice } from '../device.js';

const G = 10;

export function registerEnum(dev: VirtualDevice): void {
  const { server } = dev;
  server.setGroupName(G, 'enum mgmt');
  server.register(enumeration.count, () => ({ count: server.groups().length }));
  server.register(enumeration.list, () => ({ groups: server.groups() }));
  server.register(enumeration.single, (req) => {
    const groups = server.groups();
    if (req.index >= groups.length) throw new GroupError(G, 4);
    return req.index === groups.length - 1 ? { group: groups[req.index]!, end: true } : { group: groups[req.index]! };
  });
  server.register(enumeration.details, (req) => {
    const all = server.groups();
    if (req.groups && req.groups.length > 16) throw new GroupError(G, 2);
    const wanted = req.groups ? all.filter((g) => req.groups!.includes(g)) : all;
    return { groups: wanted.map((g) => ({ group: g, name: server.groupName(g), handlers: server.handlerCount(g) })) };
  });
}
