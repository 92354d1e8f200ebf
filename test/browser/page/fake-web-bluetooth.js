// Injected into the page before its scripts: a navigator.bluetooth with one device whose SMP characteristic
// goes to the test process (window.__ble*, exposed by bridge.ts), where a SimulatedGattPeer answers.
(() => {
  const SMP_SERVICE = '8d53dc1d-1db7-4cd3-868b-8a527460aa84';
  const SMP_CHARACTERISTIC = 'da2e7828-fbce-4e01-ae9e-261174997c48';

  class FakeCharacteristic extends EventTarget {
    value = null;
    constructor(service) {
      super();
      this.service = service;
      this.uuid = SMP_CHARACTERISTIC;
    }
    async writeValueWithoutResponse(value) {
      const bytes = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
      await window.__bleWrite(Array.from(bytes));
    }
    async startNotifications() {
      await window.__bleSubscribe();
      void this.receive();
      return this;
    }
    async receive() {
      for (;;) {
        const batch = await window.__bleNotifications();
        if (batch === null) return this.service.device.lost();
        for (const notification of batch) {
          this.value = new DataView(new Uint8Array(notification).buffer);
          this.dispatchEvent(new Event('characteristicvaluechanged'));
        }
      }
    }
  }

  class FakeDevice extends EventTarget {
    name = 'smp_svr (simulated)';
    id = 'simulated';
    constructor() {
      super();
      const device = this;
      const service = { uuid: SMP_SERVICE, device };
      const characteristic = new FakeCharacteristic(service);
      service.getCharacteristic = async (uuid) => {
        if (uuid !== SMP_CHARACTERISTIC) throw new DOMException('No Characteristics matching UUID found.', 'NotFoundError');
        return characteristic;
      };
      this.gatt = {
        device,
        connected: false,
        async connect() {
          await window.__bleConnect();
          this.connected = true;
          return this;
        },
        disconnect() {
          if (!this.connected) return;
          this.connected = false;
          void window.__bleDisconnect();
        },
        async getPrimaryService(uuid) {
          if (uuid !== SMP_SERVICE) throw new DOMException('No Services matching UUID found in Device.', 'NotFoundError');
          return service;
        },
      };
    }
    lost() {
      this.gatt.connected = false;
      this.dispatchEvent(new Event('gattserverdisconnected'));
    }
  }

  const device = new FakeDevice();
  Object.defineProperty(navigator, 'bluetooth', {
    value: {
      async requestDevice(options) {
        window.__requestDeviceOptions = options;
        const offersSmp = options?.filters?.some((f) => f.services?.includes(SMP_SERVICE));
        if (!offersSmp) throw new DOMException('User cancelled the requestDevice() chooser.', 'NotFoundError');
        return device;
      },
    },
  });
})();
