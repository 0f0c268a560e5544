// Request cases shared by several end-to-end files.

/** Requests that another server could read differently from the gateway. */
export const AMBIGUOUS = (p) => [
  ['PUT', `/${p}/v5/objects/uploads/%252e%252e/private/x.txt`, undefined, 'PATH_INVALID'],
  ['PUT', `/${p}/v5/objects/uploads/..;/private/x.txt`, undefined, 'PATH_INVALID'],
  ['PUT', `/${p}/v5/objects/uploads/a;b/x.txt`, undefined, 'PATH_INVALID'],
  ['PUT', `/${p}/v5/objects/uploads/%EF%BC%8E%EF%BC%8E/x.txt`, undefined, 'PATH_INVALID'],
  ['PUT', `/${p}/v5/objects/uploads%EF%BC%8Fx.txt`, undefined, 'PATH_INVALID'],
  ['POST', `/${p}/v4/files?folder=/uploads&folder=/private`, { name: 'a.txt', data: 'aGk=', postactions: 'decode_base64' }, 'INVALID_FIELD'],
  ['POST', `/${p}/v4/files?folder=/uploads&dir=/private`, { name: 'a.txt', data: 'aGk=', postactions: 'decode_base64' }, 'INVALID_FIELD'],
  ['POST', `/${p}/v4/files?folder=%ZZ`, { name: 'a.txt', data: 'aGk=', postactions: 'decode_base64' }, 'INVALID_FIELD'],
  ['POST', `/${p}/v4/files?folder=/uploads/%252e%252e`, { name: 'a.txt', data: 'aGk=', postactions: 'decode_base64' }, 'PATH_INVALID'],
  ['GET', `/${p}/v5/files?folder=/uploads&folder=/private`, undefined, 'INVALID_FIELD'],
  ['GET', `/${p}/v5/files?folder=/uploads/..;`, undefined, 'PATH_INVALID'],
  ['POST', `/${p}/v5/objects/uploads/a.txt/move`, { to: '/uploads/%2e%2e/private/a.txt' }, 'PATH_INVALID'],
  ['POST', `/${p}/v5/objects/uploads/a.txt/move`, { to: '/uploads/100%' }, 'PATH_INVALID'],
  ['POST', `/${p}/v5/objects/uploads/a.txt/move`, { to: '/uploads/a;b.txt' }, 'PATH_INVALID'],
];
