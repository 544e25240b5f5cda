/** `ballast pause --portfolio ID --by NAME --reason TEXT`. */
import { loopPauseCommand } from '../desk';

export const define = loopPauseCommand(true);
