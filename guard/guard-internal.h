/* private to guard/ */
