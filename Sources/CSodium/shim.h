#ifndef CHANNELLAB_CSODIUM_SHIM_H
#define CHANNELLAB_CSODIUM_SHIM_H
#include <sodium.h>
#endif
