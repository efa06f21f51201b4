from docsearch.cli import main

raise SystemExit(main())
