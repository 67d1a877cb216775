/** The page's CSP forbids eval to code evaluated from outside it: zod parses without its JIT. */
import { z } from 'zod';

z.config({ jitless: true });
