// Plan: a machine without Firefox fails the Firefox e2e with the command that installs it.
import { describe, expect, it } from 'vitest';
import { findFirefox } from './firefox';

describe('findFirefox', () => {
  it('names apt-get install firefox-esr when there is none', () => {
    expect(() => findFirefox(['/nonexistent/firefox-esr'], undefined)).toThrow(/apt-get install firefox-esr/);
    expect(() => findFirefox([], '/nonexistent/firefox')).toThrow(
      /FIREFOX_PATH=\/nonexistent\/firefox does not exist.*apt-get install firefox-esr/,
    );
  });
  it('takes FIREFOX_PATH first, then the first candidate that exists', () => {
    expect(findFirefox(['/nonexistent', process.execPath], undefined)).toBe(process.execPath);
    expect(findFirefox(['/nonexistent'], process.execPath)).toBe(process.execPath);
  });
});
