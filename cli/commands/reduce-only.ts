/** `ballast reduce-only --portfolio ID --by NAME --reason TEXT`. */
import { tradingStateCommand } from '../desk';

export const define = tradingStateCommand('REDUCING', 'only orders that reduce exposure pass');
