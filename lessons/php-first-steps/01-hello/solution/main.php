<?php
$name = trim(fgets(STDIN));

echo "Hello, $name!\n";
echo "Your name has " . strlen($name) . " characters.\n";
