// roomq: the command-line client (`roomq pub`, `roomq sub`). See run.h.
#include "clients/cli/run.h"

int main(int argc, char** argv) { return roomq::cli::Main(argc, argv); }
