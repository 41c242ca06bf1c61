#include "../common/start.S"
