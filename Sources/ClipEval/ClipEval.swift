// ClipEval: placeholder until its issue lands.
import ClipCore
