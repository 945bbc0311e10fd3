/** The crew's plan, as stored while a person looks at it and handed back once approved. */
export interface TaskPlan {
  steps: string[];
  files?: string[];
  verify?: string;
}

export function planText(plan: TaskPlan): string {
  return [
    ...plan.steps.map((s, i) => `${i + 1}. ${s}`),
    plan.files && plan.files.length > 0 ? `Files: ${plan.files.join(', ')}` : '',
    plan.verify ? `Verify: ${plan.verify}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
