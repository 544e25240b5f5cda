/** `ballast revoke --portfolio ID --override ID --by NAME --reason TEXT`. */
export { revokeCommand as define } from '../desk';
