#ifndef REFINERY_CYAML_SHIM_H
#define REFINERY_CYAML_SHIM_H
#include <yaml.h>
#endif
