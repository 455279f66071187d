from alongside.cli import main

raise SystemExit(main())
