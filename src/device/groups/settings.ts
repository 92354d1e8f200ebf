import { settings } from '../../groups/settings.js';
import { GroupError } from '../errors.js';
import type { VirtualDevice } from '../device.js';

const G = 3;
const NAME_LEN = 32;
const VALUE_LEN = 32;

export function registerSettings(dev: VirtualDevice): void {
  const { server } = dev;
  server.setGroupName(G, 'settings mgmt');
  const checkName = (name: string): void => {
    if (name.length === 0) throw new GroupError(G, 5);
    if (Buffer.byteLength(name) > NAME_LEN) throw new GroupError(G, 2);
  };

  server.register(settings.read, (req) => {
    checkName(req.name);
    const value = dev.settings.get(req.name);
    if (!value) throw new GroupError(G, 3);
    const limit = Math.min(VALUE_LEN, req.max_size ?? VALUE_LEN);
    if (value.length > limit) return { val: value.slice(0, limit), max_size: limit };
    return { val: value };
  });
  server.register(settings.write, (req) => {
    checkName(req.name);
    dev.settings.set(req.name, Uint8Array.from(req.val));
    dev.saveSettings();
    return {};
  });
  server.register(settings.remove, (req) => {
    checkName(req.name);
    if (!dev.settings.delete(req.name)) throw new GroupError(G, 3);
    dev.saveSettings();
    return {};
  });
  server.register(settings.commit, () => ({}));
  server.register(settings.load, () => ({}), { payload: 'optional' });
  server.register(
    settings.save,
    () => {
      dev.saveSettings();
      return {};
    },
    { payload: 'optional' },
  );
}
