import { type Command, Option } from 'commander';
import { ROLES, type Role } from '../config/role.js';
import type { CliContext } from './cli-context.js';

/** `devbot doctor [--json] [--role R]`: checks without starting anything; exit 1 when something must be fixed. */
export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check configuration, tokens and services, and say what to fix')
    .option('--json', 'print the report as JSON')
    .addOption(
      new Option('--role <role>', 'check only what this role needs (a gateway needs no sandbox)')
        .choices(ROLES)
        .default('all'),
    )
    .action(async (options: { json?: boolean; role: Role }) => {
      const { doctorCommand } = await import('./doctor.js');
      ctx.exitCode = await doctorCommand(options, ctx.env(), { write: ctx.out });
    });
}
