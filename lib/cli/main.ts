// Placeholder entry replaced by the CLI work (lib/cli/). Kept minimal so the build has an entry point.
process.stdout.write('checkwatch\n');
