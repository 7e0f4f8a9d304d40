import { DatabaseStatementError } from './errors';

/** The ways servers print an account in SHOW GRANTS: `user`@`host` (MySQL 8, MariaDB) or 'user'@'host'. */
function printedAccounts(user: string, host: string): string[] {
  const backticked = (name: string) => `\`${name.replaceAll('`', '``')}\``;
  const quoted = (name: string) => `'${name.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const doubled = (name: string) => `'${name.replaceAll("'", "''")}'`;
  return [
    `${backticked(user)}@${backticked(host)}`,
    `${quoted(user)}@${quoted(host)}`,
    `${doubled(user)}@${doubled(host)}`,
  ];
}

/**
 * The statements that give `grantee` (an account literal, already escaped) what SHOW GRANTS lists
 * for `user`@`host`: each GRANT (privileges, roles, PROXY) and MariaDB's SET DEFAULT ROLE, with the
 * account after its last ` TO ` / ` FOR ` replaced. The `USAGE ON *.*` line is left out: it only
 * says the account exists, and MariaDB prints the account's password hash in it.
 */
export function copiedGrants(
  lines: readonly string[],
  user: string,
  host: string,
  grantee: string,
): string[] {
  const accounts = printedAccounts(user, host);
  const statements: string[] = [];
  for (const line of lines) {
    if (/^GRANT USAGE ON \*\.\* TO /i.test(line)) continue;
    const keyword = /^SET DEFAULT ROLE /i.test(line) ? ' FOR ' : ' TO ';
    const replaced = replaceAccount(line, keyword, accounts, grantee);
    if (replaced === undefined) {
      throw new DatabaseStatementError(
        'Copying the grants: a SHOW GRANTS line does not name the user to clone',
      );
    }
    if (/ IDENTIFIED /i.test(replaced.slice(replaced.lastIndexOf(grantee)))) {
      throw new DatabaseStatementError('Copying the grants: a SHOW GRANTS line carries a password clause');
    }
    statements.push(replaced);
  }
  return statements;
}

function replaceAccount(line: string, keyword: string, accounts: readonly string[], grantee: string) {
  for (const account of accounts) {
    const at = line.lastIndexOf(`${keyword}${account}`);
    if (at < 0) continue;
    const start = at + keyword.length;
    return `${line.slice(0, start)}${grantee}${line.slice(start + account.length)}`;
  }
  return undefined;
}
