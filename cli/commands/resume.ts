/** `ballast resume --portfolio ID --by NAME --reason TEXT`. */
import { loopPauseCommand } from '../desk';

export const define = loopPauseCommand(false);
