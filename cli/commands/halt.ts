/** `ballast halt --portfolio ID --by NAME --reason TEXT`. */
import { tradingStateCommand } from '../desk';

export const define = tradingStateCommand('HALTED', 'the kill switch: every order denied');
