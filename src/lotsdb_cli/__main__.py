from lotsdb_cli.cli import main

main()
