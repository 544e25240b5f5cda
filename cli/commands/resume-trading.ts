/** `ballast resume-trading --portfolio ID --by NAME --reason TEXT`. */
import { tradingStateCommand } from '../desk';

export const define = tradingStateCommand('ACTIVE', 'normal trading');
