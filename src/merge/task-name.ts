// Task names become file names (the CLI's `<name>.safetensors` in --out, the studio's downloads and
// zip entries) and bundle keys (`mask/<task>/<tensor>`), so a name is checked before it is used as
// one: a name that could leave the folder, hide, collide with the bundle or be refused by Windows
// is refused with the reason, never cleaned up silently (two names could clean up to one file).

/** Names the outputs use themselves: the bundle's file stem. Compared case-insensitively. */
export const RESERVED_TASK_NAMES: readonly string[] = ['emr-bundle'];

/** Windows refuses these as a file's stem, whatever the extension (CON.safetensors included). */
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/** Characters Windows refuses in a file name, beside the path separators. */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;

/** Long enough for any real task name; short enough that `<name>-00001-of-00009.safetensors` fits 255 bytes. */
export const MAX_TASK_NAME_BYTES = 200;

/** Why `name` cannot be a task's name (and so a file's stem), or undefined when it can. */
export function taskNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name);
  if (name.trim() === '') return `the task name ${shown} is empty`;
  if (/[/\\]/.test(name)) return `the task name ${shown} contains a path separator (/ or \\)`;
  if (name === '.' || name === '..') return `the task name ${shown} is a folder reference`;
  if (name.startsWith('.')) return `the task name ${shown} starts with "." (a hidden file)`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return `the task name ${shown} contains a control character`;
  if (WINDOWS_FORBIDDEN.test(name))
    return `the task name ${shown} contains one of < > : " | ? *, which Windows refuses in file names`;
  if (/[ .]$/.test(name)) return `the task name ${shown} ends with a space or ".", which Windows drops`;
  if (WINDOWS_DEVICES.test(name.split('.')[0] as string))
    return `the task name ${shown} is a reserved device name on Windows`;
  if (RESERVED_TASK_NAMES.includes(name.toLowerCase()))
    return `the task name ${shown} is reserved for the bundle's file (emr-bundle.safetensors)`;
  if (new TextEncoder().encode(name).byteLength > MAX_TASK_NAME_BYTES)
    return `the task name ${shown.slice(0, 40)}… is longer than ${MAX_TASK_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Every problem with a list of task names: each name's own, and two names that would be one file on
 * a case-insensitive disk (macOS, Windows).
 */
export function taskNamesProblem(names: readonly string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const name of names) {
    const problem = taskNameProblem(name);
    if (problem) return problem;
    const key = name.normalize('NFC').toLowerCase();
    const other = seen.get(key);
    if (other !== undefined)
      return other === name
        ? `two tasks are named ${JSON.stringify(name)}`
        : `the tasks ${JSON.stringify(other)} and ${JSON.stringify(name)} would be one file on a case-insensitive disk`;
    seen.set(key, name);
  }
  return undefined;
}
