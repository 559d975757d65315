from lotsdb_cli.cli.app import main

main()
