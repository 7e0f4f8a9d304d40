import { describe, expect, it } from 'vitest';
import { MAX_FIND_REGEXP_LENGTH, nameRegexpCompiler } from '../../shared/propagation/find-name-regexp';

describe('nameRegexpCompiler', () => {
  it('evaluates a pattern of exactly the cap, and refuses one character more', () => {
    const compile = nameRegexpCompiler();
    const atCap = `^${'a'.repeat(MAX_FIND_REGEXP_LENGTH - 1)}`;
    const match = compile(atCap);
    expect(typeof match === 'function' && match('a'.repeat(MAX_FIND_REGEXP_LENGTH - 1))).toBe(true);
    expect(compile(`${atCap}a`)).toBe('regexp-too-long');
  });

  it('compiles each pattern once per compiler', () => {
    const compile = nameRegexpCompiler();
    expect(compile('^prod/')).toBe(compile('^prod/'));
    expect(nameRegexpCompiler()('^prod/')).not.toBe(compile('^prod/'));
  });
});
