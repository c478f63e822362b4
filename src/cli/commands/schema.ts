import { Argument, type Command } from 'commander';
import { SCHEMA_NAMES, jsonSchemaOf, type SchemaName } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { withExamples } from '../output.ts';

export function registerSchema(program: Command, io: CliIo): void {
  const cmd = program
    .command('schema')
    .description(
      'Print the JSON Schema of a domain type (the shapes --json prints and files must follow)',
    )
    .addArgument(new Argument('<name>', 'type name').choices(SCHEMA_NAMES))
    .action((name: SchemaName) => {
      io.stdout.write(`${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
    });
  withExamples(cmd, [
    'metallmix schema DatasetProfile > profile.schema.json',
    'metallmix schema Recommendation',
  ]);
}
