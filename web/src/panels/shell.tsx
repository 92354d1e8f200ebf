/** Shell: a terminal over SMP shell exec, with line editing, history, copy and paste. */
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'preact/hooks';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { shell } from '../lib.js';
import { Section } from '../ui.js';

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

export function ShellPanel({ active }: { active: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | undefined>(undefined);

  useEffect(() => {
    const t = new Terminal({ convertEol: true, cursorBlink: true, fontSize: 14, rows: 22, screenReaderMode: true });
    term.current = t;
    t.open(box.current!);
    t.textarea?.setAttribute('aria-label', 'Device shell: type a command and press Enter');
    const history: string[] = [];
    let historyAt = 0;
    let line = '';
    let running = false;
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
    };
    t.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        if (t.hasSelection()) void navigator.clipboard?.writeText(t.getSelection());
        return false;
      }
      if (e.code === 'KeyV') {
        void navigator.clipboard?.readText().then((text) => t.paste(text));
        return false;
      }
      return true;
    });
    const input = t.onData((data) => {
      if (running) return;
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
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') {
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
          t.write('^C\r\n' + PROMPT);
        } else if (ch >= ' ') {
          line += ch;
          t.write(ch);
        }
      }
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
        <button type="button" id="shell-copy" onClick={() => {
          const t = term.current;
          if (!t) return;
          t.selectAll();
          void navigator.clipboard?.writeText(t.getSelection());
          t.clearSelection();
        }}>
          Copy all output
        </button>
        <button type="button" id="shell-clear" onClick={() => term.current?.clear()}>
          Clear
        </button>
      </div>
    </Section>
  );
}
