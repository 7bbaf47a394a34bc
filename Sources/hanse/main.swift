// The `hanse` executable; every command lives in HanseCLI.
import HanseCLI

HanseCommand.main()
