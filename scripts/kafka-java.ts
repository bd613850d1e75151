import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from './kafka-process.js';

/**
 * The Java side of the local broker: a Java 17+ runtime, and Apache Kafka's classpath fetched
 * once from Maven Central with Maven (scripts/kafka/pom.xml) into a cache shared by every
 * checkout (`<cacheDir>/libs`, marked complete by `libs/.complete` holding the version).
 */

export interface Command {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output (never throws for a non-zero exit). */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Command> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-64_000)));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The java executable: `java` if given, else `$JAVA_HOME/bin/java`, else java on PATH; checked to be 17+. */
export function findJava(java: string | undefined, javaHome: string | undefined, version: string): string {
  const candidate = java ?? (javaHome !== undefined && existsSync(join(javaHome, 'bin', 'java')) ? join(javaHome, 'bin', 'java') : 'java');
  const probe = spawnSync(candidate, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  if (probe.error !== undefined) throw new Error(`java not found (${candidate}): Kafka ${version} needs Java 17+; set JAVA_HOME`);
  const spec = /java\.specification\.version = (?:1\.)?(\d+)/.exec(probe.stderr)?.[1];
  if (spec === undefined || Number(spec) < 17) {
    throw new Error(`Kafka ${version} needs Java 17+, ${candidate} is '${spec ?? 'unknown'}' (set JAVA_HOME)`);
  }
  return candidate;
}

const completeMarker = (libs: string): string => join(libs, '.complete');

function complete(libs: string, version: string): boolean {
  try {
    return readFileSync(completeMarker(libs), 'utf8').trim() === version;
  } catch {
    return false;
  }
}

/** Resolves with `<cacheDir>/libs`, fetching Kafka `version`'s runtime jars with Maven the first time. */
export async function kafkaClasspath(cacheDir: string, version: string, pom: string, log: (line: string) => void): Promise<string> {
  const libs = join(cacheDir, 'libs');
  if (complete(libs, version)) return libs;
  mkdirSync(cacheDir, { recursive: true });
  return withLock(join(cacheDir, '.fetch.lock'), 900_000, 'another process is fetching the Kafka classpath', async () => {
    if (complete(libs, version)) return libs;
    if (spawnSync('mvn', ['--version'], { stdio: 'ignore' }).error !== undefined) {
      throw new Error(`mvn not found: needed once to fetch Kafka ${version} into ${libs}`);
    }
    log(`fetching org.apache.kafka:kafka_2.13:${version} + runtime deps from Maven Central into ${libs} ...`);
    const tmp = join(cacheDir, `libs.tmp.${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    const t0 = Date.now();
    const mvn = await run('mvn', [
      '-B',
      '-q',
      '-f',
      pom,
      'dependency:copy-dependencies',
      `-Dkafka.version=${version}`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ]);
    writeFileSync(join(cacheDir, 'mvn.log'), mvn.stdout + mvn.stderr);
    const jars = existsSync(tmp) ? readdirSync(tmp).filter((f) => f.endsWith('.jar')) : [];
    if (mvn.code !== 0 || !jars.some((f) => f.startsWith('kafka_2.13-')) || !jars.some((f) => f.startsWith('kafka-tools-'))) {
      rmSync(tmp, { recursive: true, force: true });
      const tail = (mvn.stdout + mvn.stderr).trim().split('\n').slice(-40).join('\n');
      throw new Error(`could not fetch the Kafka classpath with mvn (see ${join(cacheDir, 'mvn.log')}):\n${tail}`);
    }
    writeFileSync(completeMarker(tmp), `${version}\n`);
    rmSync(libs, { recursive: true, force: true });
    renameSync(tmp, libs);
    log(`fetched ${jars.length} jars in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return libs;
  });
}
