from __future__ import annotations

from archlint.main import main

raise SystemExit(main())
