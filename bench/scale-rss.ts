// Memory of other processes, read from outside through /proc (Linux): the peak RSS of a child
// (VmHWM, a high-water mark the kernel keeps) and the RSS of a Chromium's processes, found as the
// descendants of its browser process, with the renderers told apart by `--type=renderer`.
import { readFile, readdir } from 'node:fs/promises';

const KB = 1024;

async function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * KB;
  } catch {
    return 0; // the process ended, or there is no /proc
  }
}

/** A process's peak RSS so far in bytes (0 once it has ended). */
export const vmHwm = (pid: number) => statusField(pid, 'VmHWM');

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: string;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      out.push({ pid: Number(name), ppid, cmdline });
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}

export interface ChromiumSample {
  /** RSS of the renderer with the most, now. */
  readonly rendererRss: number;
  /** The highest VmHWM among renderers (their peak since they started). */
  readonly rendererHwm: number;
  /** RSS of every process of this Chromium together, now. */
  readonly totalRss: number;
  readonly renderers: number;
}

/**
 * Samples the Chromium whose browser process has `marker` (its --user-data-dir) on its command
 * line: that process and all its descendants.
 */
export async function sampleChromium(marker: string): Promise<ChromiumSample> {
  const all = await processes();
  const roots = all.filter((p) => p.cmdline.includes(marker) && !p.cmdline.includes('--type='));
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const family: Proc[] = [];
  const stack = [...roots];
  while (stack.length) {
    const p = stack.pop() as Proc;
    family.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  let rendererRss = 0;
  let rendererHwm = 0;
  let totalRss = 0;
  let renderers = 0;
  for (const p of family) {
    const rss = await statusField(p.pid, 'VmRSS');
    totalRss += rss;
    if (p.cmdline.includes('--type=renderer')) {
      renderers++;
      rendererRss = Math.max(rendererRss, rss);
      rendererHwm = Math.max(rendererHwm, await vmHwm(p.pid));
    }
  }
  return { rendererRss, rendererHwm, totalRss, renderers };
}
