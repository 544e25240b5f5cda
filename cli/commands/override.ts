/** `ballast override --portfolio ID --field LIMIT --value N --requested-by NAME --by NAME --reason TEXT --expires WHEN`. */
export { overrideCommand as define } from '../desk';
