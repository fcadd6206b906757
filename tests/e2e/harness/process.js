'use strict';
// Child processes of a test stack: spawn, wait for a log line, stop.
//
// Every child is registered in a process-wide set and killed when this test
// process exits for any reason we can intercept (normal exit, uncaught
// error, SIGINT/SIGTERM from the test runner's timeout), so a failing test
// never leaves a broker or gateway behind. Output is kept (last
// MAX_LOG_LINES lines per child) for failure messages, and written to
// tests/e2e/artifacts/logs/ when E2E_LOG_DIR or the default dir is writable.

const {spawn} = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const MAX_LOG_LINES = 400;
const LOG_DIR = process.env.E2E_LOG_DIR || path.join(__dirname, '..', 'artifacts', 'logs');
const live = new Set();
let logCounter = 0;

function killAllSync() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

process.on('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllSync();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

// options: env (added to this process's), group (the child leads a process
// group of its own and every signal goes to the whole group, so what a
// script started goes with it even when the script is SIGKILLed).
class Child {
  constructor(name, command, args, options = {}) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.lines = [];
    this.lineCount = 0;  // every line ever printed (lines keeps the last MAX_LOG_LINES)
    this.waiters = [];
    this.exited = false;
    this.exitCode = null;
    this.exitSignal = null;
    this.group = Boolean(options.group);
    this.proc = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {...process.env, ...(options.env || {})},
      detached: this.group,
    });
    live.add(this);

    fs.mkdirSync(LOG_DIR, {recursive: true});
    const base = path.basename(process.argv[1] || 'e2e', '.js');
    this.logFile = path.join(LOG_DIR, `${base}.${process.pid}.${++logCounter}.${name}.log`);
    this.logStream = fs.createWriteStream(this.logFile);
    this.logStream.write(`$ ${command} ${args.join(' ')}\n`);

    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      readline.createInterface({input: stream}).on('line', (line) => this.onLine(line));
    }
    // 'exit' may come before the last output lines; 'close' comes after
    // stdout and stderr ended, so the log is complete then.
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      // A group lives on while any of its members does (they hold the
      // output pipes open until 'close').
      if (!this.group) live.delete(this);
    });
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        live.delete(this);
        this.logStream.end(`# exited code=${code} signal=${signal}\n`);
        for (const w of this.waiters.splice(0)) {
          w.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before printing ${w.regex}\n${this.tail()}`));
        }
        resolve();
      });
    });
    this.proc.on('error', (err) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name}: ${err.message}`));
    });
  }

  onLine(line) {
    this.lineCount++;
    this.lines.push(line);
    if (this.lines.length > MAX_LOG_LINES) this.lines.shift();
    this.logStream.write(line + '\n');
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${this.name}] ${line}\n`);
    this.waiters = this.waiters.filter((w) => {
      const m = w.regex.exec(line);
      if (m && w.matches.push(m) === w.count) {
        w.resolve(w.count === 1 ? m : w.matches);
        return false;
      }
      return true;
    });
  }

  // Resolves with the match of the first line (from now or already printed)
  // matching `regex`; with `count` > 1, with the first `count` matches.
  waitForLine(regex, {timeoutMs = 10000, count = 1, fromStart = true} = {}) {
    return new Promise((resolve, reject) => {
      const matches = [];
      if (fromStart) {
        for (const line of this.lines) {
          const m = regex.exec(line);
          if (m && matches.push(m) === count) {
            resolve(count === 1 ? m : matches);
            return;
          }
        }
      }
      if (this.exited) {
        reject(new Error(`${this.name} already exited before printing ${regex}\n${this.tail()}`));
        return;
      }
      const waiter = {regex, count, matches, resolve, reject};
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no line matching ${regex} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      waiter.resolve = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      waiter.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.waiters.push(waiter);
    });
  }

  kill(signal) {
    try {
      if (this.group) process.kill(-this.proc.pid, signal);
      else this.proc.kill(signal);
    } catch {
      // already gone
    }
  }

  tail(n = 40) {
    return `--- last lines of ${this.name} (${this.logFile}) ---\n${this.lines.slice(-n).join('\n')}`;
  }

  // SIGTERM, then SIGKILL if it has not exited within `graceMs`.
  async stop(graceMs = 3000) {
    if (this.exited) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exited) this.kill('SIGKILL');
    }, graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

module.exports = {Child};
