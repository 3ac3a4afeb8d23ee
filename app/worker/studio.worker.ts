// The studio's dedicated module worker: the service behind comlink, so the page never blocks.
import { expose } from 'comlink';
import { StudioService } from './service';

expose(new StudioService());
