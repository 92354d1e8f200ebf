/** Which threads are near their stack limit (taskstat's stkuse against stksiz). */

/** What this needs of a taskstat entry. */
interface StackInfo {
  stkuse?: number;
  stksiz?: number;
}

/** Stack use from which a thread is flagged. */
export const STACK_WARNING = 0.85;

export function stackUse(t: StackInfo): number | undefined {
  return t.stksiz && t.stkuse !== undefined ? t.stkuse / t.stksiz : undefined;
}

export function nearStackLimit(tasks: [string, StackInfo][]): [string, number][] {
  return tasks.flatMap(([name, t]) => {
    const use = stackUse(t);
    return use !== undefined && use >= STACK_WARNING ? [[name, use] as [string, number]] : [];
  });
}
