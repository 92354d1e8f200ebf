// Injected into the page before its scripts: a navigator.serial with one port whose bytes go to the test
// process (window.__serialOpen/Write/Read/Close, exposed by bridge.ts), which forwards them to a real pty.
(() => {
  class FakeSerialPort extends EventTarget {
    readable = null;
    writable = null;

    async open({ baudRate }) {
      if (this.readable) throw new DOMException('The port is already open.', 'InvalidStateError');
      await window.__serialOpen(baudRate);
      this.readable = new ReadableStream({
        pull: async (controller) => {
          const bytes = await window.__serialRead();
          if (bytes === null) {
            this.readable = null;
            controller.error(new DOMException('The device has been lost.', 'NetworkError'));
          } else {
            controller.enqueue(new Uint8Array(bytes));
          }
        },
      });
      this.writable = new WritableStream({
        write: (chunk) => window.__serialWrite(Array.from(chunk)),
      });
    }

    async close() {
      if (this.readable?.locked || this.writable?.locked) {
        throw new DOMException('Cannot close a port with locked streams.', 'InvalidStateError');
      }
      this.readable = null;
      this.writable = null;
      await window.__serialClose();
    }
  }

  const port = new FakeSerialPort();
  Object.defineProperty(navigator, 'serial', {
    value: {
      // The user picks the port in the chooser: from then on the browser knows it (bridge.ts: plugIn/unplug).
      requestPort: async () => {
        await window.__serialPicked?.();
        return port;
      },
      // The permitted ports that are plugged in now.
      getPorts: async () => ((await window.__serialListed?.()) === false ? [] : [port]),
    },
  });
})();
