import { decide } from '../decide';

export const summary = 'approve a pending recommendation (--portfolio --recommendation --by --reason [--manual])';
export const run = (argv: string[]): Promise<number> => decide('approve', argv);
