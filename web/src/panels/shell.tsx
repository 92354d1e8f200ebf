/**
 * Shell: a terminal over SMP shell exec, with line editing, history, copy and paste. Loaded when first opened
 * (xterm.js is most of the app's code).
 */
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'preact/hooks';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { shell } from '../lib.js';
import { Message, Section, useAction } from '../ui.js';

const PROMPT = '\x1b[1;32muart:~$\x1b[0m ';

/** Splits a command line into argv: spaces separate, quotes group, backslash escapes. */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inArg = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      inArg = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  return args;
}

/** Puts `text` on the clipboard, or says why the browser would not. */
async function copyText(text: string): Promise<string> {
  if (!navigator.clipboard) throw new Error('This browser gives the page no clipboard (it needs https or localhost).');
  await navigator.clipboard.writeText(text);
  return `Copied ${text.length} characters to the clipboard.`;
}

export default function ShellPanel({ active }: { active: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | undefined>(undefined);
  const clipboard = useAction();

  useEffect(() => {
    const t = new Terminal({ convertEol: true, cursorBlink: true, fontSize: 14, rows: 22, screenReaderMode: true });
    term.current = t;
    t.open(box.current!);
    t.textarea?.setAttribute('aria-label', 'Device shell: type a command and press Enter');
    const history: string[] = [];
    let historyAt = 0;
    let line = '';
    let running = false;
    /** What was typed or pasted while a command ran: the lines after the first of a multi-line paste. */
    let pending = '';
    t.write('Commands run on the device through SMP shell exec (CONFIG_MCUMGR_GRP_SHELL). Up/Down: history; Ctrl+Shift+C / Ctrl+Shift+V: copy / paste.\r\n');
    t.write(PROMPT);
    const replaceLine = (text: string) => {
      t.write('\b \b'.repeat(line.length));
      line = text;
      t.write(line);
    };
    const runLine = async () => {
      const command = line;
      line = '';
      t.write('\r\n');
      if (command.trim()) {
        if (history[history.length - 1] !== command) history.push(command);
        running = true;
        try {
          const r = await connection.need().call(shell.exec, { argv: splitArgs(command) });
          // Zephyr's shell starts a command's output on a new line; the prompt's line has already ended here.
          const out = r.o.replace(/^\r?\n/, '');
          if (out) t.write(out.endsWith('\n') ? out : `${out}\r\n`);
          const status = r.ret ?? r.rc ?? 0;
          if (status !== 0) t.write(`\x1b[33m(exit status ${status})\x1b[0m\r\n`);
        } catch (err) {
          t.write(`\x1b[31m${errorText(err)}\x1b[0m\r\n`);
        } finally {
          running = false;
        }
      }
      historyAt = history.length;
      t.write(PROMPT);
      const rest = pending;
      pending = '';
      if (rest) type(rest);
    };
    t.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        if (t.hasSelection()) void clipboard.run(() => copyText(t.getSelection()));
        return false;
      }
      if (e.code === 'KeyV') {
        void clipboard.run(async () => {
          if (!navigator.clipboard) throw new Error("This browser gives the page no clipboard: paste with the browser's Edit menu.");
          t.paste(await navigator.clipboard.readText());
        });
        return false;
      }
      return true;
    });
    const type = (data: string) => {
      if (data === '\x1b[A') {
        if (historyAt > 0) replaceLine(history[--historyAt] ?? '');
        return;
      }
      if (data === '\x1b[B') {
        historyAt = Math.min(history.length, historyAt + 1);
        replaceLine(history[historyAt] ?? '');
        return;
      }
      if (data.startsWith('\x1b')) return;
      for (let i = 0; i < data.length; i++) {
        const ch = data[i]!;
        if (ch === '\r' || ch === '\n') {
          pending = data.slice(ch === '\r' && data[i + 1] === '\n' ? i + 2 : i + 1) + pending;
          void runLine();
          return;
        }
        if (ch === '\x7f' || ch === '\b') {
          if (line.length) {
            line = line.slice(0, -1);
            t.write('\b \b');
          }
        } else if (ch === '\x03') {
          line = '';
          t.write(`^C\r\n${PROMPT}`);
        } else if (ch >= ' ') {
          line += ch;
          t.write(ch);
        }
      }
    };
    const input = t.onData((data) => {
      if (running) pending += data;
      else type(data);
    });
    return () => {
      input.dispose();
      t.dispose();
    };
  }, []);

  useEffect(() => {
    if (active) term.current?.focus();
  }, [active]);

  return (
    <Section title="Terminal">
      <div class="terminal" id="terminal" ref={box} />
      <div class="buttons">
        <button
          type="button"
          id="shell-copy"
          onClick={() => {
            const t = term.current;
            if (!t) return;
            // The selection, or everything when nothing is selected.
            const selected = t.hasSelection();
            if (!selected) t.selectAll();
            const text = t.getSelection();
            if (!selected) t.clearSelection();
            void clipboard.run(() => copyText(text));
          }}
        >
          Copy (selection or all)
        </button>
        <button type="button" id="shell-clear" onClick={() => term.current?.clear()}>
          Clear
        </button>
      </div>
      <Message outcome={clipboard.outcome} id="shell-message" />
    </Section>
  );
}
