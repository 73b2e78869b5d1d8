// Placeholder entry point; the subcommands are added in apps/logz/cmd_*.cpp.
int main() { return 0; }
