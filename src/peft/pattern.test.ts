// Plan: pattern keys match module names exactly as peft's re.match(rf"(.*\.)?({key})$", module)
// does (expected lists computed with Python's re); catastrophic keys for a backtracking engine
// answer in linear time (counted in NFA states, not timed); unsupported syntax and oversized keys
// are refused by name.
import { describe, expect, it } from 'vitest';
import { compilePatternKey, MAX_PATTERN_CHARS, MAX_PATTERN_STATES, PatternError } from './pattern';

const MODULES = [
  'model.layers.0.self_attn.q_proj',
  'model.layers.1.self_attn.v_proj',
  'model.layers.12.mlp.up_proj',
  'model.layers.2.mlp.down_proj',
  'q_proj',
  'model.layers.0.self_attn.k_proj',
  'xq_proj',
  'model.layers.1.mlp.gate_proj',
  'encoder.xxx',
  'encoder.xxxx',
  'b',
  'ab',
  'layers.1',
  'layers.11',
];
// Python: [m for m in MODULES if re.match(rf"(.*\.)?({key})$", m)]
const PYTHON: [string, string[]][] = [
  ['q_proj', ['model.layers.0.self_attn.q_proj', 'q_proj']],
  ['layers.0.self_attn.q_proj', ['model.layers.0.self_attn.q_proj']],
  ['layers\\.[0-3]\\.self_attn\\.q_proj', ['model.layers.0.self_attn.q_proj']],
  ['.*\\.v_proj', ['model.layers.1.self_attn.v_proj']],
  [
    'model\\.layers\\.(1|2)\\..*',
    ['model.layers.1.self_attn.v_proj', 'model.layers.2.mlp.down_proj', 'model.layers.1.mlp.gate_proj'],
  ],
  [
    '(q|k|v)_proj',
    [
      'model.layers.0.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
      'q_proj',
      'model.layers.0.self_attn.k_proj',
    ],
  ],
  [
    '[a-z]+_proj',
    [
      'model.layers.0.self_attn.q_proj',
      'model.layers.1.self_attn.v_proj',
      'model.layers.12.mlp.up_proj',
      'model.layers.2.mlp.down_proj',
      'q_proj',
      'model.layers.0.self_attn.k_proj',
      'xq_proj',
      'model.layers.1.mlp.gate_proj',
    ],
  ],
  ['layers\\.\\d+\\.mlp\\.(up|down)_proj', ['model.layers.12.mlp.up_proj', 'model.layers.2.mlp.down_proj']],
  ['^model.layers.0.self_attn.q_proj', ['model.layers.0.self_attn.q_proj']],
  ['attn\\.[^.]+', []],
  ['x{2,3}', ['encoder.xxx']],
  ['a?b', ['b', 'ab']],
  ['(?:q|v)_proj$', ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.v_proj', 'q_proj']],
  [
    'layers\\.1[0-9]?\\..*',
    ['model.layers.1.self_attn.v_proj', 'model.layers.12.mlp.up_proj', 'model.layers.1.mlp.gate_proj'],
  ],
  [
    'self_attn\\.(q|k)_proj|mlp\\.gate_proj',
    ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.k_proj', 'model.layers.1.mlp.gate_proj'],
  ],
  ['proj', []],
  ['[\\w.]+q_proj', ['model.layers.0.self_attn.q_proj', 'xq_proj']],
  ['\\d\\.self_attn.q_proj', ['model.layers.0.self_attn.q_proj']],
  ['layers.1{,2}', ['layers.1', 'layers.11']],
  ['lay.rs\\.[^0]\\.mlp\\.up_proj', []],
];

describe('peft pattern keys', () => {
  it.each(PYTHON)('%s matches the modules Python matches', (key, expected) => {
    const p = compilePatternKey(key);
    expect(MODULES.filter((m) => p.matches(m))).toEqual(expected);
  });

  it('catastrophic keys for a backtracking engine compile small and match a long name at once', () => {
    const name = 'a'.repeat(5000);
    for (const key of ['([a-z_.0-9]|[a-z_.0-9])*Q', '(a+)+Q', '(a|aa)*Q', '(.*a){12}Q', '((a*)*)*Q']) {
      const p = compilePatternKey(key);
      // Thompson simulation: at most `states` steps per character, whatever the input.
      expect(p.states).toBeLessThan(200);
      expect(p.matches(name)).toBe(false);
      expect(p.matches(`${name}Q`)).toBe(true);
    }
  });

  it.each([
    ['(?=q)_proj', /group construct "\(\?="/],
    ['(?i)q_proj', /group construct "\(\?i"/],
    ['(q)\\1', /escape \\1/],
    ['\\bq_proj', /escape \\b/],
    ['q_proj[', /unclosed "\["/],
    ['(q_proj', /unclosed "\("/],
    ['q_proj)', /unmatched "\)"/],
    ['*q', /nothing to repeat/],
    ['a{5,2}', /max below min/],
    ['a{1000000}', /repeat count over/],
    ['(a{100}){100}', new RegExp(`more than ${MAX_PATTERN_STATES} states`)],
    ['('.repeat(150) + ')'.repeat(150), /nesting deeper/],
    ['q'.repeat(MAX_PATTERN_CHARS) + '.', /characters long/],
  ])('refuses %s', (key, message) => {
    let error: unknown;
    try {
      compilePatternKey(key);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PatternError);
    expect(String(error)).toMatch(message);
  });
});
