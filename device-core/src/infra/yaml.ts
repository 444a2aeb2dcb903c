/** One reader of YAML files for every config loader: typed E_CONFIG errors that name the file and say why. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BeepkitError } from '@beepkit/protocol';

/** The parsed document of the YAML file at `path` ({} for an empty file); `what` names it in errors. */
export function readYamlFile(path: string, what = 'config file'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `${what} ${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
  try {
    return parse(text) ?? {};
  } catch (cause) {
    throw new BeepkitError('E_CONFIG', `${what} ${path} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
}

/** A YAML scalar or document from text (an environment override's value); throws yaml's error when it is not YAML. */
export function parseYaml(text: string): unknown {
  return parse(text);
}
