/** `ballast reject --portfolio ID --recommendation ID --by NAME --reason TEXT [--manual]`. */
import { decisionCommand } from '../decide';

export const define = decisionCommand('reject');
