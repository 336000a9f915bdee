/**
 * Type-checks one mutant in memory (a TypeScript language service over the project's
 * tsconfig.json, with the mutated file's text swapped in), so that mutants the compiler rejects
 * are set aside before a test run is spent on them. Only the mutated file is checked: mutants
 * change expressions, not exported types.
 */
import { resolve } from 'node:path';
import ts from 'typescript';

/**
 * Lint-like diagnostics that a mutant naturally triggers and that do not stop the code from
 * running (vitest strips types without checking): unused locals, parameters and imports
 * (removing `authorize(caller, app, operation)` leaves `operation` unused), implicit returns and
 * fall-through. A mutant that only trips these is a real behaviour change and is run.
 */
const IGNORED = new Set([6133, 6138, 6192, 6196, 6198, 6199, 6205, 7027, 7029, 7030]);

export class MutantTypeChecker {
  readonly #service: ts.LanguageService;
  readonly #overrides = new Map<string, string>();
  readonly #versions = new Map<string, number>();

  constructor(root: string, tsconfig = 'tsconfig.json') {
    const parsed = ts.getParsedCommandLineOfConfigFile(resolve(root, tsconfig), undefined, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (parsed === undefined) throw new Error(`cannot read ${tsconfig}`);
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => parsed.fileNames,
      getScriptVersion: (f) => String(this.#versions.get(f) ?? 0),
      getScriptSnapshot: (f) => {
        const text = this.#overrides.get(f) ?? ts.sys.readFile(f);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => root,
      getCompilationSettings: () => parsed.options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    };
    this.#service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /** The unmutated program (for generating mutants with type information). */
  program(): ts.Program {
    const p = this.#service.getProgram();
    if (p === undefined) throw new Error('TypeScript produced no program');
    return p;
  }

  /** The first type error in `file` (absolute path) if its text were `text`, else undefined. */
  check(file: string, text: string): string | undefined {
    this.#set(file, text);
    try {
      const diags = [
        ...this.#service.getSyntacticDiagnostics(file),
        ...this.#service.getSemanticDiagnostics(file),
      ].filter((d) => d.category === ts.DiagnosticCategory.Error && !IGNORED.has(d.code));
      const d = diags[0];
      if (d === undefined) return undefined;
      const line =
        d.file !== undefined && d.start !== undefined
          ? d.file.getLineAndCharacterOfPosition(d.start).line + 1
          : 0;
      return `TS${d.code} line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    } finally {
      this.#set(file, undefined);
    }
  }

  #set(file: string, text: string | undefined): void {
    if (text === undefined) this.#overrides.delete(file);
    else this.#overrides.set(file, text);
    this.#versions.set(file, (this.#versions.get(file) ?? 0) + 1);
  }
}
